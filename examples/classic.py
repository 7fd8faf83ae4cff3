"""Layer-by-layer delta-rule backprop beside autograd: the same gradients.

The code lives in `chainrule/demos/classic_demo.py` (read it: it is written to be read); this
script runs it, as does `chainrule demo classic`. Pictures go to ./demo-classic/.

    python examples/classic.py
"""

from chainrule.demos.classic_demo import main

if __name__ == "__main__":
    main()
