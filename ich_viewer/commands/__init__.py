"""The application's commands, one module each, every one with `add_parser(sub)` for cli.py:

  view       the viewer (the default)
  segment    many studies headless: masks and findings
  report     one study's PDF report headless
  train      the networks on CT-ICH (ich_viewer.training does the work)
  evaluate   cross-validation, baselines and the model card
  self-test  this installation, offscreen, on the sample study

`reading` is the step they share: load the engine, segment and measure a study.
Heavy modules (Qt, TensorFlow) are imported inside the command that runs.
"""
