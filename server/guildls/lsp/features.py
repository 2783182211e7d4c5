"""Editing features on the language server: pygls wiring only.

Completion, hover, definition, references, rename, document symbols and quick fixes are
pure functions in ``guildls.analysis``; here requests are turned into ``(model, line,
column)`` and results back into protocol types. The model counts columns in code points;
LSP positions count UTF-16 code units by default (or what was negotiated): positions are
converted at this boundary, and only lines with non-ASCII text need any work.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from typing import Iterable, List, Optional

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.uris import from_fs_path

from ..model.lines import split_lines
from .lazy import lazy_module
from .positions import Columns
from .positions import encoding_of as _encoding

log = logging.getLogger(__name__)

# imported on the first request that needs them, not at spawn: the first diagnostics of a
# new server should cost what the model and the checks cost (see bench/startup.py)
codeactions = lazy_module("guildls.analysis.codeactions")
completion = lazy_module("guildls.analysis.completion")
hover = lazy_module("guildls.analysis.hover")
links = lazy_module("guildls.analysis.links")
navigation = lazy_module("guildls.analysis.navigation")
semtokens = lazy_module("guildls.analysis.semtokens")

TRIGGER_CHARACTERS = [" ", "=", ":", "{", "$", "-"]
REQUEST_FAILED = -32803  # LSP ErrorCodes.RequestFailed


def _refuse(message: str) -> JsonRpcException:
    return JsonRpcException(message, code=REQUEST_FAILED)


def _markup_kind(ls, where: str) -> types.MarkupKind:
    """Markdown when the client says it renders it (for hover or completion docs)."""
    caps = getattr(ls, "client_capabilities", None)
    td = getattr(caps, "text_document", None)
    if where == "hover":
        formats = getattr(getattr(td, "hover", None), "content_format", None)
    else:
        formats = getattr(getattr(getattr(td, "completion", None), "completion_item", None),
                          "documentation_format", None)
    if formats and types.MarkupKind.Markdown in formats:
        return types.MarkupKind.Markdown
    return types.MarkupKind.PlainText


def _snippets_ok(ls) -> bool:
    """Whether the client declares snippet support in completion items."""
    caps = getattr(ls, "client_capabilities", None)
    item = getattr(getattr(getattr(caps, "text_document", None), "completion", None), "completion_item", None)
    return bool(getattr(item, "snippet_support", False))


def _item_defaults(ls) -> set:
    """The CompletionList ``itemDefaults`` the client takes (LSP 3.17; VS Code: editRange,
    data, ...)."""
    caps = getattr(ls, "client_capabilities", None)
    comp = getattr(getattr(caps, "text_document", None), "completion", None)
    return set(getattr(getattr(comp, "completion_list", None), "item_defaults", None) or ())


def _share_defaults(result: types.CompletionList, uri: str, accepted: set) -> None:
    """Move what most items repeat into ``itemDefaults``: the edit range (an item keeps
    its own text only when it differs from its label) and the resolve data of operation
    items of one model (resolve then finds the operation by its label). A list of 200
    step targets then serializes about 8 times faster (bench/edit_latency.py)."""
    items = result.items
    if len(items) < 8 or "editRange" not in accepted:
        return
    if not all(isinstance(it.text_edit, types.TextEdit) for it in items):
        return  # with a default range, an item's insertText would be ignored

    def key(te: types.TextEdit) -> tuple:
        r = te.range
        return (r.start.line, r.start.character, r.end.line, r.end.character)

    common = Counter(key(it.text_edit) for it in items).most_common(1)[0][0]
    defaults = types.CompletionItemDefaults(edit_range=types.Range(
        start=types.Position(common[0], common[1]), end=types.Position(common[2], common[3])))
    for it in items:
        te = it.text_edit
        if key(te) == common:
            it.text_edit = None
            if te.new_text != it.label:
                it.text_edit_text = te.new_text
    if "data" in accepted:
        models = {it.data.get("model") for it in items
                  if isinstance(it.data, dict) and it.data.get("kind") == "operation"}
        if len(models) == 1:
            model = models.pop()
            defaults.data = {"kind": "operation", "model": model, "uri": uri}
            for it in items:
                d = it.data
                if isinstance(d, dict) and d.get("kind") == "operation" and d.get("op") == it.label:
                    it.data = None
    result.item_defaults = defaults


def _markup(ls, where: str, value: str):
    """Markdown content, or the plain string for clients that do not declare Markdown."""
    if _markup_kind(ls, where) == types.MarkupKind.Markdown:
        return types.MarkupContent(kind=types.MarkupKind.Markdown, value=value)
    return value


def _doc(ls, uri: str):
    gf = ls.guild_model(uri)
    if gf is None:
        return None, None
    return gf, Columns(gf.lines, _encoding(ls))


def _at(cols: Columns, pos: types.Position):
    return pos.line, cols.from_client(pos.line, pos.character)


def _symbols(cols: Columns, syms: Iterable[types.DocumentSymbol]) -> List[types.DocumentSymbol]:
    out = []
    for s in syms:
        s.range = cols.fix(s.range)
        s.selection_range = cols.fix(s.selection_range)
        if s.children:
            s.children = _symbols(cols, s.children)
        out.append(s)
    return out


def _workspace_edit(uri: str, cols: Columns, edits) -> types.WorkspaceEdit:
    return types.WorkspaceEdit(changes={
        uri: [types.TextEdit(range=cols.range(r), new_text=t) for r, t in edits]})


# -------------------------------------------------------------------------------------
# handlers (also callable directly in tests)


def do_completion(ls, params: types.CompletionParams) -> types.CompletionList:
    uri = params.text_document.uri
    getter = getattr(ls, "guild_model_for_completion", None) or ls.guild_model
    gf = getter(uri)
    if gf is None:
        return types.CompletionList(is_incomplete=False, items=[])
    text = ls.workspace.get_text_document(uri).source
    lines = gf.lines if text == gf.text else split_lines(text)
    cols = Columns(lines, _encoding(ls))
    line, col = _at(cols, params.position)
    result = completion.complete(gf, line, col, lines=lines)
    # "trigger suggest again" after `name=` is a VS Code editor command; other clients
    # would send it back to us as workspace/executeCommand
    vscode = any(n in (getattr(ls, "client_name", "") or "") for n in ("Visual Studio Code", "VSCodium", "Code - OSS",
                                                                         "code-server"))
    if not _snippets_ok(ls):
        result.items = [it for it in result.items if it.insert_text_format != types.InsertTextFormat.Snippet]
    fixed: dict = {}
    for it in result.items:
        if not vscode and it.command is not None and it.command.command.startswith("editor."):
            it.command = None
        if isinstance(it.documentation, types.MarkupContent):
            it.documentation = _markup(ls, "completion", it.documentation.value)
        te = it.text_edit
        if isinstance(te, types.TextEdit):
            # items may share one range object (a long list of names): convert it once
            hit = fixed.get(id(te.range))
            if hit is None:  # (the original is kept alive: its id stays unique)
                hit = fixed[id(te.range)] = (te.range, cols.fix(te.range))
            te.range = hit[1]
        if isinstance(it.data, dict):
            it.data["uri"] = uri
    _share_defaults(result, uri, _item_defaults(ls))
    return result


def do_resolve(ls, item: types.CompletionItem) -> types.CompletionItem:
    data = item.data if isinstance(item.data, dict) else None
    if not data or item.documentation is not None:
        return item
    try:
        if data.get("kind") == "operation" and data.get("uri"):
            gf = ls.guild_model(data["uri"])
            m = gf.models.get(data.get("model")) if gf is not None else None
            if m is None and gf is not None:
                m = gf.configs.get(data.get("model"))
            # the list's default data names no operation: the label does (see _share_defaults)
            op = m.operations.get(data.get("op") or item.label) if m is not None else None
            if op is not None:
                item.documentation = _markup(ls, "completion", hover.operation_markdown(op))
        elif data.get("kind") == "attribute":
            from ..analysis.context import schema_describe, schema_section

            sec = schema_section(data.get("section"))
            attr = sec.get(data.get("name")) if sec is not None else None
            if attr is not None:
                item.documentation = _markup(ls, "completion", schema_describe(attr))
    except Exception:  # a resolve never fails the item
        log.exception("completion resolve failed")
    return item


def do_hover(ls, params: types.HoverParams) -> Optional[types.Hover]:
    gf, cols = _doc(ls, params.text_document.uri)
    if gf is None:
        return None
    line, col = _at(cols, params.position)
    res = hover.hover(gf, line, col)
    if res is None:
        return None
    md, rng = res
    return types.Hover(contents=_markup(ls, "hover", md), range=cols.range(rng))


def _locations(ls, params, find) -> Optional[List[types.Location]]:
    uri = params.text_document.uri
    gf, cols = _doc(ls, uri)
    if gf is None:
        return None
    line, col = _at(cols, params.position)
    return [types.Location(uri=uri, range=cols.range(r)) for r in find(gf, line, col)] or None


def do_definition(ls, params: types.DefinitionParams) -> Optional[List[types.Location]]:
    uri = params.text_document.uri
    gf, cols = _doc(ls, uri)
    if gf is None:
        return None
    line, col = _at(cols, params.position)
    out = []
    for path, r in navigation.definition_targets(gf, line, col):
        if path is None:
            out.append(types.Location(uri=uri, range=cols.range(r)))
        else:  # a script: its columns are code points from the AST; line starts are exact
            out.append(types.Location(uri=from_fs_path(path) or uri, range=types.Range(
                start=types.Position(r.start_line, r.start_col), end=types.Position(r.end_line, r.end_col))))
    return out or None


def do_references(ls, params: types.ReferenceParams) -> Optional[List[types.Location]]:
    incl = params.context.include_declaration if params.context is not None else True
    return _locations(ls, params, lambda gf, line, col: navigation.references(gf, line, col, incl))


def do_prepare_rename(ls, params: types.PrepareRenameParams):
    gf, cols = _doc(ls, params.text_document.uri)
    if gf is None:
        return None
    line, col = _at(cols, params.position)
    try:
        res = navigation.prepare_rename(gf, line, col)
    except navigation.RenameError as e:
        raise _refuse(str(e)) from None
    if res is None:
        return None
    rng, name = res
    return types.PrepareRenamePlaceholder(range=cols.range(rng), placeholder=name)


def do_rename(ls, params: types.RenameParams) -> Optional[types.WorkspaceEdit]:
    uri = params.text_document.uri
    gf, cols = _doc(ls, uri)
    if gf is None:
        return None
    line, col = _at(cols, params.position)
    try:
        edits = navigation.rename(gf, line, col, params.new_name)
    except navigation.RenameError as e:
        raise _refuse(str(e)) from None
    return _workspace_edit(uri, cols, edits)


def do_document_symbols(ls, params: types.DocumentSymbolParams) -> List[types.DocumentSymbol]:
    gf, cols = _doc(ls, params.text_document.uri)
    if gf is None:
        return []
    return _symbols(cols, navigation.document_symbols(gf))


def do_code_action(ls, params: types.CodeActionParams) -> Optional[List[types.CodeAction]]:
    uri = params.text_document.uri
    gf, cols = _doc(ls, uri)
    if gf is None:
        return None
    only = params.context.only
    if only and not any(str(k).startswith("quickfix") for k in only):
        return None

    class _D:
        def __init__(self, d: types.Diagnostic):
            self.code = d.code
            self.data = d.data
            self.range = cols.model_range(d.range)
            self.orig = d

    diags = [_D(d) for d in params.context.diagnostics or () if d.code in codeactions.FIXABLE]
    out = []
    for fix in codeactions.quick_fixes(gf, diags):
        out.append(types.CodeAction(
            title=fix.title, kind=types.CodeActionKind.QuickFix,
            diagnostics=[fix.diagnostic.orig], is_preferred=fix.preferred or None,
            edit=_workspace_edit(uri, cols, fix.edits)))
    out.extend(_fix_all(ls, uri, gf, cols, {d.code for d in diags}))
    return out or None


def _fix_all(ls, uri, gf, cols, codes) -> List[types.CodeAction]:
    """One action per code: every problem of that code in the document gets its preferred
    fix (when there are two or more; overlapping edits are left out)."""
    if not codes or not hasattr(ls, "guild_diagnostics"):
        return []
    out = []
    problems = ls.guild_diagnostics(uri)
    for code in sorted(codes):
        same = [p for p in problems if p.code == code]
        if len(same) < 2:
            continue
        edits = codeactions.fix_all_edits(gf, same)
        if len(edits) < 2:
            continue
        out.append(types.CodeAction(
            title=f"Fix all '{code}' problems in this file ({len(edits)})", kind=types.CodeActionKind.QuickFix,
            edit=_workspace_edit(uri, cols, edits)))
    return out


def do_document_links(ls, params: types.DocumentLinkParams) -> Optional[List[types.DocumentLink]]:
    gf, cols = _doc(ls, params.text_document.uri)
    if gf is None:
        return None
    caps = getattr(getattr(ls, "client_capabilities", None), "text_document", None)
    tips = bool(getattr(getattr(caps, "document_link", None), "tooltip_support", False))
    return [types.DocumentLink(range=cols.range(r), target=from_fs_path(path),
                               tooltip=f"Open {os.path.basename(path)}" if tips else None)
            for r, path in links.document_links(gf)] or None


def do_semantic_tokens(ls, params: types.SemanticTokensParams) -> types.SemanticTokens:
    gf, cols = _doc(ls, params.text_document.uri)
    if gf is None:
        return types.SemanticTokens(data=[])
    data: List[int] = []
    prev_line = prev_start = 0
    for line, col, length, kind in semtokens.tokens(gf):
        start = cols.to_client(line, col)
        units = cols.to_client(line, col + length) - start
        data += [line - prev_line, start - prev_start if line == prev_line else start, units, kind, 0]
        prev_line, prev_start = line, start
    return types.SemanticTokens(data=data)


# -------------------------------------------------------------------------------------


def _features():
    return [
        (types.TEXT_DOCUMENT_COMPLETION,
         types.CompletionOptions(trigger_characters=TRIGGER_CHARACTERS, resolve_provider=True), do_completion),
        (types.COMPLETION_ITEM_RESOLVE, None, do_resolve),
        (types.TEXT_DOCUMENT_HOVER, None, do_hover),
        (types.TEXT_DOCUMENT_DEFINITION, None, do_definition),
        (types.TEXT_DOCUMENT_REFERENCES, None, do_references),
        (types.TEXT_DOCUMENT_PREPARE_RENAME, None, do_prepare_rename),
        (types.TEXT_DOCUMENT_RENAME, None, do_rename),
        (types.TEXT_DOCUMENT_DOCUMENT_SYMBOL, None, do_document_symbols),
        (types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
         types.SemanticTokensLegend(token_types=semtokens.TOKEN_TYPES, token_modifiers=[]),  # pygls wants the legend
         do_semantic_tokens),
        (types.TEXT_DOCUMENT_DOCUMENT_LINK, types.DocumentLinkOptions(resolve_provider=False), do_document_links),
        (types.TEXT_DOCUMENT_CODE_ACTION,
         types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]), do_code_action),
    ]


def register(server):
    """Register the editing features on ``server`` (a ``GuildServer``).

    Each handler's first parameter is named ``ls``, so pygls passes the server to it.
    """
    for method, options, handler in _features():
        server.feature(method, options)(_guarded(handler))


def _guarded(handler):
    """An analysis bug answers "nothing" (and is logged) rather than an error popup;
    deliberate refusals (rename) still reach the client."""

    def guarded(ls, params):
        try:
            return handler(ls, params)
        except JsonRpcException:
            raise
        except Exception as e:
            log.exception("%s failed", handler.__name__)
            try:
                ls.window_log_message(types.LogMessageParams(
                    types.MessageType.Error, f"guildls: internal error in {handler.__name__}: {e!r}"))
            except Exception:  # pragma: no cover
                pass
            return item_or_none(handler, params)

    guarded.__name__ = handler.__name__
    return guarded


def item_or_none(handler, params):
    return params if handler is do_resolve else None
