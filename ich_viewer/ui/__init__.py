"""The GUI: main window, slice view, overlays, panels. The only package that knows Qt."""
