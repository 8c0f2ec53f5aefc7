"""The Qt widgets of the viewer: time panel, entity tree, selection panel, views."""
