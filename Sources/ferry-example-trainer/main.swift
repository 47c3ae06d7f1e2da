// Placeholder: the example trainer (logistic regression on synthetic per-site data) goes here.
print("ferry-example-trainer: not yet implemented")
