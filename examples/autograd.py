"""A=4, b=3, c=a+b, d=a*c: explain() shows dd/da = 7 + 4 = 11, plus a graph drawing.

The code lives in `chainrule/demos/autograd_demo.py` (read it: it is written to be read); this
script runs it, as does `chainrule demo autograd`. Pictures go to ./demo-autograd/.

    python examples/autograd.py
"""

from chainrule.demos.autograd_demo import main

if __name__ == "__main__":
    main()
