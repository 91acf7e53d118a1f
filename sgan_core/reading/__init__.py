"""Reading a run back: a saved model's forward pass in NumPy (npforward.py), predictions for
images and drawings (predict.py), committees of runs (committee.py), the generator's desk
(desk.py) and how the model learned (insight.py). No TensorFlow in a page's interaction."""
