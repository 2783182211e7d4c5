"""JSON-RPC edge cases pygls leaves to the server.

A request whose params do not match the protocol's types (a negative line, a
character of 2**40, a text document without uri) fails while the message is decoded:
pygls then drops the request (the client waits forever) and pops up "Error in
server: Invalid Params" in the editor. Here every such request is answered with a
JSON-RPC ``InvalidParams`` error naming the method, and a client's malformed message
is logged, never shown as a popup.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger(__name__)


class _Answered:
    """A request already answered with an error while it was decoded."""

    jsonrpc = None


ANSWERED = _Answered()


class GuildProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict) -> Any:
        try:
            return super().structure_message(data)
        except (JsonRpcInvalidParams, JsonRpcInternalError) as e:
            if "id" in data and "method" in data and isinstance(data.get("id"), (int, str)):
                method = data.get("method")
                code = JsonRpcInvalidParams.CODE if isinstance(e, JsonRpcInvalidParams) else e.code
                self._send_response(data["id"], error=types.ResponseError(
                    code=code, message=f"invalid params for {method}: they do not match the protocol's types"))
                return ANSWERED
            raise

    def _execute_handler(self, msg_id, handler, callback, args=None, kwargs=None):
        # pygls 2 files the future of every handler it runs as a generator, a coroutine or
        # in a thread under `msg_id` in `_request_futures`, and only a request's own
        # callback takes it out again: a notification (its id is a fresh uuid) handled by
        # one of pygls's generator handlers (didOpen, didChange, didClose, ...) or a step of
        # a generator handler stayed there for good, one future per keystroke
        def done(future, _callback=callback, _id=msg_id):
            if self._request_futures.get(_id) is future:
                del self._request_futures[_id]
            _callback(future)

        return super()._execute_handler(msg_id, handler, done, args, kwargs)

    def notify_text(self, method: str, params_json: str) -> None:
        """A notification whose params are JSON text already (the diagnostics of a large
        document, mostly serialized for an earlier version: see server.publish). Written
        the way pygls's ``_send_data`` writes a message."""
        if self.writer is None:
            log.error("Unable to send data, no available transport!")
            return
        body = '{"jsonrpc": "2.0", "method": ' + json.dumps(method) + ', "params": ' + params_json + "}"
        try:
            if self._include_headers:
                body = (f"Content-Length: {len(body)}\r\n"
                        f"Content-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n") + body
            res = self.writer.write(body.encode(self.CHARSET))
            if inspect.isawaitable(res):
                asyncio.ensure_future(res)
        except BrokenPipeError:
            log.exception("Error sending data. BrokenPipeError", exc_info=True)
            raise
        except Exception as error:
            log.exception("Error sending data", exc_info=True)
            self._server._report_server_error(error, JsonRpcInternalError)

    def handle_message(self, message):
        if message is ANSWERED:
            return
        return super().handle_message(message)


def report_quietly(server, error: Exception, source) -> bool:
    """True when ``error`` is the client's (malformed JSON-RPC): logged, no popup."""
    if isinstance(source, type) and issubclass(source, JsonRpcException):
        log.warning("malformed message from the client: %s", error)
        try:
            server.window_log_message(types.LogMessageParams(
                type=types.MessageType.Warning, message=f"guildls: ignored a malformed message: {error}"))
        except Exception:  # pragma: no cover - transport gone
            pass
        return True
    return False
