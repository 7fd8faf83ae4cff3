"""A small decoder-only Transformer learns to write like Hamlet, one character at a time.

The code lives in `chainrule/demos/transformer_demo.py` (read it: it is written to be read);
this script runs it, as does `chainrule demo transformer`. It prints samples before and after
training and the falling loss, and writes the loss curve to ./demo-transformer/.

    python examples/transformer.py [--steps 200]
"""

import argparse

from chainrule.demos.transformer_demo import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="training steps (default 200)")
    parser.add_argument("--out", default=None, help="folder for the picture")
    args = parser.parse_args()
    main(out_dir=args.out, steps=args.steps)
