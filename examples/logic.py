"""AND, OR, NAND as single sigmoid neurons with the notes' weights.

The code lives in `chainrule/demos/logic_demo.py` (read it: it is written to be read); this
script runs it, as does `chainrule demo logic`. Pictures go to ./demo-logic/.

    python examples/logic.py
"""

from chainrule.demos.logic_demo import main

if __name__ == "__main__":
    main()
