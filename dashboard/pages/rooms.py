"""Rooms: a consultant sets up a consultation or a class and gets its links; the rooms still
open can get new links, have their invitations withdrawn, or be closed."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from contracts.invitations import (
    GUESTS,
    RoomLinks,
    RoomSetupError,
    close_room,
    create_room,
    links,
    open_rooms,
    withdraw_invitations,
)
from dashboard import data
from dashboard.auth import current_account

dash.register_page(__name__, path="/rooms", name="Rooms", title="econsult · rooms", order=2)


def layout(**_: object) -> html.Div:
    account = current_account()
    setup = html.Section([
        html.H3("Set up a room"),
        html.Label(["Name ", dcc.Input(id="room-name", maxLength=100,
                                       placeholder="e.g. smith-followup")]),
        dcc.RadioItems(id="room-kind", value="consultation", inline=True,
                       options=[{"label": " a consultation (one client) ", "value": "consultation"},
                                {"label": " a class (students)", "value": "class"}]),
        html.Button("Set up the room", id="create-room"),
        html.Div(id="new-room", role="status"),
    ]) if account.role == "consultant" else html.P(
        "Rooms are set up by consultants, signed in with their own account.", className="hint")
    return html.Div([html.H2("Rooms"), setup,
                     html.Section(id="open-rooms", children=_open_rooms()),
                     html.Div(id="room-action", role="status")])


@callback(Output("new-room", "children"), Output("open-rooms", "children"),
          Input("create-room", "n_clicks"), State("room-name", "value"),
          State("room-kind", "value"), prevent_initial_call=True)
def create(_: int, name: str | None, kind: str) -> tuple[html.Div, html.Div]:
    try:
        made = create_room(data.database(), data.settings, (name or "").strip(), kind,
                           current_account())
    except RoomSetupError as exc:
        return html.P(str(exc), className="error"), _open_rooms()
    return _links(made, "new"), _open_rooms()


@callback(Output("room-action", "children"), Output("open-rooms", "children",
                                                   allow_duplicate=True),
          Input("new-links", "n_clicks"), Input("withdraw", "n_clicks"),
          Input("close-room", "n_clicks"), State("room-choice", "value"),
          prevent_initial_call=True)
def act(_new: int, _withdraw: int, _close: int, room_id: str | None) -> tuple[object, object]:
    room = next((r for r in open_rooms(data.database(), current_account())
                 if str(r.id) == room_id), None)
    if room is None:
        raise PreventUpdate
    if dash.ctx.triggered_id == "new-links":
        return _links(links(data.database(), data.settings, room), "more"), _open_rooms()
    if dash.ctx.triggered_id == "withdraw":
        count = withdraw_invitations(data.database(), room)
        return html.P(f"{count} invitations to {room.name} withdrawn: those links open "
                      "nothing now."), _open_rooms()
    close_room(data.database(), room.id)
    return html.P(f"{room.name} is closed: its links open nothing now."), _open_rooms()


def _open_rooms() -> html.Div:
    rooms = open_rooms(data.database(), current_account())
    if not rooms:
        return html.Div([html.H3("Open rooms"), html.P("No open room.")])
    return html.Div([
        html.H3("Open rooms"),
        dcc.RadioItems(id="room-choice", value=str(rooms[0].id), options=[
            {"label": f" {r.name} ({r.kind}, {r.consultant})", "value": str(r.id)}
            for r in rooms]),
        html.Button("New links", id="new-links"),
        html.Button("Withdraw its invitations", id="withdraw"),
        html.Button("Close it", id="close-room"),
    ])


def _links(made: RoomLinks, place: str) -> html.Div:
    guests = "the client" if GUESTS[made.room.kind] == "client" else "the students"
    hours = f"{data.settings.invitation_hours:g}"
    return html.Div([
        html.P(f"{made.room.name}: send each link by your usual means. The invitations last "
               f"{hours} hours and are shown only now; you can make new ones here."),
        _link("Your link (opens for you, signed in)", f"{place}-own", made.own),
        _link(f"Invitation for {guests}", f"{place}-guests", made.guests),
        _link("Co-host link (a second consultant, signed in with their account)",
              f"{place}-cohost", made.cohost),
    ], className="links")


def _link(label: str, element_id: str, url: str) -> html.Div:
    return html.Div([html.Label([label, dcc.Input(id=element_id, value=url, readOnly=True)]),
                     dcc.Clipboard(target_id=element_id, title="copy")])
