"""Reading a run back: a saved model's forward pass in NumPy (npforward.py), predictions for
images and drawings (predict.py), committees of runs (committee.py), the generator's desk
(desk.py), which images to label next (ask.py) and how the model learned (insight.py). A
page's interaction reads in NumPy; model files are read by Keras in a reader process of their
own (predict.py), so that the web server never imports it."""
