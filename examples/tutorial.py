"""The notes' PyTorch two-layer example, written with chainrule tensors.

The code lives in `chainrule/demos/tutorial_demo.py` (read it: it is written to be read); this
script runs it, as does `chainrule demo tutorial`. Pictures go to ./demo-tutorial/.

    python examples/tutorial.py
"""

from chainrule.demos.tutorial_demo import main

if __name__ == "__main__":
    main()
