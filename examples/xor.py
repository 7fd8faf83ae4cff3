"""XOR by hand from AND/OR/NAND, learned by a hidden layer, impossible for a perceptron.

The code lives in `chainrule/demos/xor_demo.py` (read it: it is written to be read); this
script runs it, as does `chainrule demo xor`. Pictures go to ./demo-xor/.

    python examples/xor.py
"""

from chainrule.demos.xor_demo import main

if __name__ == "__main__":
    main()
