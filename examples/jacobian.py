"""Y = W x and its Jacobian, which equals W.

The code lives in `chainrule/demos/jacobian_demo.py` (read it: it is written to be read); this
script runs it, as does `chainrule demo jacobian`. Pictures go to ./demo-jacobian/.

    python examples/jacobian.py
"""

from chainrule.demos.jacobian_demo import main

if __name__ == "__main__":
    main()
