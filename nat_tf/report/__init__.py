"""Pictures of cells for the reports: derive's cells.png, the search's TensorBoard image.

It reads only nat_tf.space (and Pillow), below every package that draws, so the search
loop and the analysis both import it downward; it imports no TensorFlow.
"""
