"""QActions, menus and the toolbar built from the action table (actions.py)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QToolBar, QWidget

from ich_viewer.ui.actions import ACTIONS, MENUS, TOOLBAR, TOOLS, Needs
from ich_viewer.ui.theme import toolbar_icon


def build_actions(parent: QWidget, handlers: dict[str, Callable]) -> dict[str, QAction]:
    """One QAction per row, bound to handlers[name]; keyed actions work even outside a menu."""
    actions = {}
    for row in ACTIONS:
        action = QAction(row.text, parent)
        action.setShortcuts([QKeySequence(k) for k in row.keys])
        if row.toolbar:
            action.setIconText(row.toolbar)
        icon = toolbar_icon(row.icon, parent.style()) if row.icon else None
        if icon is not None:
            action.setIcon(icon)
        action.setToolTip(row.text.rstrip("…") + (f" ({row.keys[0]})" if row.keys else ""))
        action.setCheckable(row.checkable)
        action.triggered.connect(handlers[row.name])
        parent.addAction(action)
        actions[row.name] = action
    tools = QActionGroup(parent)
    tools.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
    for name in TOOLS:
        tools.addAction(actions[name])
    return actions


def build_menus(bar: QMenuBar, actions: dict[str, QAction]) -> dict[str, QMenu]:
    """The menus of the table, by path ("File", "File/Export"), each in table order with its groups."""
    menus: dict[str, QMenu] = {name: bar.addMenu(f"&{name}") for name in MENUS}
    groups: dict[str, str] = {}
    for row in ACTIONS:
        if not row.menu:
            continue
        if row.menu not in menus:
            parent, _, title = row.menu.rpartition("/")
            menus[row.menu] = menus[parent].addMenu(title)
        menu = menus[row.menu]
        if row.menu in groups and groups[row.menu] != row.group:
            menu.addSeparator()
        groups[row.menu] = row.group
        menu.addAction(actions[row.name])
    return menus


def build_toolbar(toolbar: QToolBar, actions: dict[str, QAction], widgets: dict[str, QWidget]) -> None:
    for item in TOOLBAR:
        if item == "|":
            toolbar.addSeparator()
        elif item.startswith("["):
            toolbar.addWidget(widgets[item.strip("[]")])
        else:
            toolbar.addAction(actions[item])


def enable(actions: dict[str, QAction], met: dict[Needs, bool]) -> None:
    """Enable each action whose need is met now (met: every Needs, met or not)."""
    for row in ACTIONS:
        actions[row.name].setEnabled(met[row.needs])


