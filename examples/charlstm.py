"""A character-level LSTM language model trained on Shakespeare's Hamlet (shipped with the
package, public domain): samples before and after training, the falling loss, a loss curve.

The code lives in `chainrule/demos/charlstm_demo.py`; this script runs it, as does
`chainrule demo charlstm`. The picture goes to ./demo-charlstm/loss.png.

    python examples/charlstm.py [steps]
"""

import sys

from chainrule.demos.charlstm_demo import main

if __name__ == "__main__":
    main(steps=int(sys.argv[1]) if len(sys.argv) > 1 else 200)
