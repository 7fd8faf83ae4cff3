"""Learn the centre and radius of a circular decision boundary with autograd.

The code lives in `chainrule/demos/circle_demo.py` (read it: it is written to be read); this
script runs it, as does `chainrule demo circle`. Pictures go to ./demo-circle/.

    python examples/circle.py
"""

from chainrule.demos.circle_demo import main

if __name__ == "__main__":
    main()
