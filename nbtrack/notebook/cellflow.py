"""What a cell reads from the kernel's earlier state and what it leaves bound, in execution order.

A name the cell reads before it binds it, in the order Python runs the code, is an *input*:
its value comes from an earlier cell. A name bound before it is read is the cell's own. The
walk follows loops, ``if``/``while``/``with``/``try``/``match`` blocks, comprehensions (their
targets are their own), walrus, ``for`` targets, imports, augmented assignments, unpacking,
``del``, and function and class definitions.

For each name the cell leaves bound, a :class:`Binding` says what its value is made of: the
code of the statements that produced it and the inputs that flowed into them. Two bindings
with the same code and inputs of the same value hold the same value (the hidden-state report
assumes cells are deterministic, as notebooks with fixed seeds are). An import binds the same
module whichever cell runs it, so re-importing is never hidden state.

Functions run when they are called: the names a function reads are recorded as ``deferred``
on its binding and count as inputs of the code that calls it. In-place changes through a
name (``x.append(...)``, ``x[k] = v``, ``x.attr = v``, ``del x[k]``, ``inplace=True``,
``random.shuffle(x)``) rebind the name to a value made from its previous one.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable

from .cellparams import parse_cell

# names the kernel provides (IPython's output cache and helpers): never a cell's input
_IPYTHON_NAME = re.compile(r"_{1,3}|_i{1,3}|_i?\d+|_(oh|ih|dh)|In|Out|get_ipython|exit|quit|display")
BUILTINS = frozenset(dir(builtins))
# methods that change their object in place (list, dict, set, numpy arrays, incremental fits); those
# that leave it as it was when applied again (the same args) are idempotent
MUTATORS = frozenset({"append", "extend", "insert", "remove", "pop", "popitem", "clear", "update", "add",
                      "discard", "setdefault", "sort", "reverse", "fill", "resize", "partial_fit"})
IDEMPOTENT_MUTATORS = frozenset({"update", "add", "discard", "setdefault", "sort", "clear", "fill"})
_SHUFFLERS = frozenset({"shuffle"})
# calls made only to show something: no effect on what later statements compute
_DISPLAY_CALLS = frozenset({"print", "display", "pprint", "show", "head", "tail", "describe", "info", "plot",
                            "imshow", "hist", "scatter", "savefig", "log_metric", "log_metrics", "log_param",
                            "log_params", "log_artifact", "set_tag", "title", "xlabel", "ylabel", "legend"})
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass(frozen=True)
class Binding:
    """What a name the cell leaves bound holds.

    ``kind`` is ``value``, ``import``, ``function`` (a def, class or lambda) or ``deleted``;
    ``code`` identifies the code that made the value; ``inputs`` are the cell's inputs that
    flowed into it; ``deferred`` the names a function reads when called; ``update`` is True
    when the value was made by changing the name's previous value in place, ``idempotent``
    when doing that again changes nothing (``x[k] = 1``, ``s.add(v)``; not ``x.append(v)``).
    """

    kind: str
    code: int
    inputs: frozenset[str] = frozenset()
    deferred: frozenset[str] = frozenset()
    update: bool = False
    idempotent: bool = False


@dataclass(frozen=True)
class CellFlow:
    """The inputs (in the order first read) and the final bindings of one cell."""

    inputs: tuple[str, ...]
    binding_items: tuple[tuple[str, Binding], ...]

    @property
    def bindings(self) -> dict[str, Binding]:
        return dict(self.binding_items)

    @property
    def bound(self) -> frozenset[str]:
        """Names the cell leaves bound (deleted ones excluded)."""
        return frozenset(name for name, binding in self.binding_items if binding.kind != "deleted")


EMPTY = CellFlow((), ())


def is_kernel_name(name: str) -> bool:
    """Names IPython keeps in the namespace itself (``_``, ``_i3``, ``Out``, ...)."""
    return _IPYTHON_NAME.fullmatch(name) is not None


@dataclass
class _Origin:
    """What a name bound earlier in the cell is made of."""

    kind: str
    codes: frozenset[int]
    inputs: frozenset[str]
    deferred: frozenset[str] = frozenset()
    update: bool = False
    idempotent: bool = False


_PROVISIONAL = _Origin("value", frozenset(), frozenset())  # bound earlier in the statement being walked


def _free_names(node: ast.AST) -> frozenset[str]:
    """Names a function, lambda, class body or comprehension reads from outside itself."""
    local: set[str] = set()
    declared_global: set[str] = set()
    loads: set[str] = set()
    if isinstance(node, (*_FUNCTIONS, ast.Lambda)):
        arguments = node.args
        local |= {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
        local |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
        body: list[ast.AST] = list(node.body) if isinstance(node.body, list) else [node.body]
    elif isinstance(node, ast.ClassDef):
        body = list(node.body)
    else:  # a comprehension: its targets are its own
        body = [node.elt] if not isinstance(node, ast.DictComp) else [node.key, node.value]
        for generator in node.generators:
            local |= _target_names(generator.target)
            body += [generator.iter, *generator.ifs]

    def walk(child: ast.AST) -> None:
        if isinstance(child, ast.Name):
            (loads if isinstance(child.ctx, ast.Load) else local).add(child.id)
        elif isinstance(child, (ast.Global, ast.Nonlocal)):
            declared_global.update(child.names)
        elif isinstance(child, (*_FUNCTIONS, ast.ClassDef)):
            local.add(child.name)
            for outer in (*child.decorator_list, *_def_time_nodes(child)):
                walk(outer)
            loads.update(_free_names(child))
        elif isinstance(child, (ast.Lambda, *_COMPREHENSIONS)):
            if isinstance(child, ast.Lambda):
                for default in (*child.args.defaults, *(d for d in child.args.kw_defaults if d is not None)):
                    walk(default)
            loads.update(_free_names(child))
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            local.update(_import_names(child))
        elif isinstance(child, ast.ExceptHandler) and child.name:
            local.add(child.name)
            for grandchild in ast.iter_child_nodes(child):
                walk(grandchild)
        elif isinstance(child, (ast.MatchAs, ast.MatchStar)) and child.name:
            local.add(child.name)
            for grandchild in ast.iter_child_nodes(child):
                walk(grandchild)
        elif isinstance(child, ast.MatchMapping) and child.rest:
            local.add(child.rest)
            for grandchild in ast.iter_child_nodes(child):
                walk(grandchild)
        else:
            for grandchild in ast.iter_child_nodes(child):
                walk(grandchild)

    for statement in body:
        walk(statement)
    if isinstance(node, ast.ClassDef):  # methods do not see class-level names
        return frozenset(loads - BUILTINS)
    return frozenset((loads - (local - declared_global)) - BUILTINS)


def _def_time_nodes(node: ast.AST) -> list[ast.AST]:
    """What a def or class evaluates when it is defined (defaults, annotations, bases)."""
    if isinstance(node, ast.ClassDef):
        return [*node.bases, *(k.value for k in node.keywords)]
    arguments = node.args
    nodes: list[ast.AST] = [*arguments.defaults, *(d for d in arguments.kw_defaults if d is not None)]
    for argument in arguments.posonlyargs + arguments.args + arguments.kwonlyargs:
        if argument.annotation is not None:
            nodes.append(argument.annotation)
    if node.returns is not None:
        nodes.append(node.returns)
    return nodes


def _target_names(target: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _import_names(node: ast.Import | ast.ImportFrom) -> dict[str, str]:
    """{bound name: what it is bound to} for an import statement (star imports bind nothing known)."""
    out = {}
    for alias in node.names:
        if alias.name == "*":
            continue
        if isinstance(node, ast.Import):
            module = alias.name if alias.asname else alias.name.split(".")[0]
            out[alias.asname or alias.name.split(".")[0]] = f"import {module}"
        else:
            out[alias.asname or alias.name] = f"from {'.' * node.level}{node.module or ''} import {alias.name}"
    return out


def _base_name(node: ast.AST) -> str | None:
    """``x`` for ``x``, ``x.a``, ``x[0]``, ``x.a[1].b`` (the name an in-place change changes)."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


class _Walker:
    """Walks one cell's statements in execution order (see the module docstring)."""

    def __init__(self) -> None:
        self.local: dict[str, _Origin] = {}
        self.inputs: dict[str, None] = {}
        self.scopes: list[set[str]] = []  # comprehension targets in force
        self.expanding: set[str] = set()
        # the top-level statement being walked
        self.codes: set[int] = set()
        self.statement_inputs: set[str] = set()
        self.bound_here: dict[str, tuple[str, int | None, frozenset[str], bool, bool]] = {}
        self.read_log: list[str] = []  # names read in the statement being walked, in order
        self.repeats_change = False  # the statement builds on a change that is not idempotent
        # calls made for an effect nothing names (random.seed(0), os.chdir(p)): what comes after
        # in the cell may depend on them
        self.effect_codes: set[int] = set()
        self.effect_inputs: set[str] = set()

    # --- names ------------------------------------------------------------------

    def read(self, name: str) -> None:
        if any(name in scope for scope in self.scopes):
            return
        self.read_log.append(name)
        origin = self.local.get(name)
        if origin is not None:
            if origin is not _PROVISIONAL:
                self.codes |= origin.codes
                self.statement_inputs |= origin.inputs
                self.repeats_change |= origin.update and not origin.idempotent
            deferred = origin.deferred if origin is not _PROVISIONAL else self._deferred_here(name)
            if deferred and name not in self.expanding:  # calling a function defined in this cell
                self.expanding.add(name)
                for inner in sorted(deferred):
                    self.read(inner)
                self.expanding.discard(name)
            return
        if is_kernel_name(name):
            return
        self.inputs.setdefault(name, None)
        self.statement_inputs.add(name)

    def _deferred_here(self, name: str) -> frozenset[str]:
        entry = self.bound_here.get(name)
        return entry[2] if entry is not None else frozenset()

    def bind(self, name: str, kind: str = "value", code: int | None = None,
             deferred: frozenset[str] = frozenset(), update: bool = False, idempotent: bool = False) -> None:
        previous = self.bound_here.get(name)
        if previous is not None and previous[3] and not previous[4]:
            idempotent = False  # changed again after a change that is not idempotent
        self.bound_here[name] = (kind, code, deferred, update or bool(previous and previous[3]), idempotent)
        self.local[name] = _PROVISIONAL

    def update(self, name: str | None, idempotent: bool = False) -> None:
        """``name``'s value is changed in place: made from its previous value."""
        if name is None or any(name in scope for scope in self.scopes):
            return
        self.read(name)
        self.bind(name, update=True, idempotent=idempotent)

    # --- statements -------------------------------------------------------------

    def statement(self, node: ast.stmt) -> None:
        """One top-level statement: walk it, then settle what the names it bound are made of."""
        self.codes, self.statement_inputs = {hash(ast.dump(node))} | self.effect_codes, set(self.effect_inputs)
        self.bound_here, self.read_log, self.repeats_change = {}, [], False
        self.visit(node)
        if not self.bound_here and _is_effect(node):
            self.effect_codes |= self.codes
            self.effect_inputs |= self.statement_inputs
        for name, (kind, code, deferred, update, idempotent) in self.bound_here.items():
            if kind == "import":
                self.local[name] = _Origin("import", frozenset({code}), frozenset())
            elif kind == "deleted":
                self.local[name] = _Origin("deleted", frozenset(self.codes), frozenset())
            else:
                self.local[name] = _Origin(kind, frozenset(self.codes), frozenset(self.statement_inputs),
                                           deferred, update, update and idempotent and not self.repeats_change)

    def body(self, statements: Iterable[ast.stmt]) -> None:
        for statement in statements:
            self.visit(statement)

    def branches(self, *bodies: list[ast.stmt]) -> None:
        """Alternative blocks: each starts from the same state; afterwards a name bound in
        any of them counts as bound."""
        start = dict(self.local)
        ends = []
        for block in bodies:
            self.local = dict(start)
            self.body(block)
            ends.append(self.local)
        merged = dict(start)
        for end in ends:
            merged.update(end)
        self.local = merged

    def visit(self, node: ast.AST) -> None:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is not None:
            method(node)
        else:
            for child in ast.iter_child_nodes(node):
                self.visit(child)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.read(node.id)
        elif isinstance(node.ctx, ast.Store):
            self.bind(node.id)
        else:
            self.bind(node.id, kind="deleted")

    def target(self, node: ast.AST, value_reads: frozenset[str] = frozenset()) -> None:
        """An assignment target, bound after its value (which read ``value_reads``) was computed.
        ``x[k] = v`` and ``x.a = v`` change ``x``: idempotently unless ``v`` read ``x``."""
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            self.visit(node.value)
            if isinstance(node, ast.Subscript):
                self.visit(node.slice)
            base = _base_name(node)
            self.update(base, idempotent=base not in value_reads)
        elif isinstance(node, ast.Starred):
            self.target(node.value, value_reads)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for element in node.elts:
                self.target(element, value_reads)
        else:
            self.visit(node)

    def _reads_of(self, node: ast.AST) -> frozenset[str]:
        """Visit ``node``; the names it read."""
        start = len(self.read_log)
        self.visit(node)
        return frozenset(self.read_log[start:])

    def visit_Assign(self, node: ast.Assign) -> None:
        reads = self._reads_of(node.value)
        for target in node.targets:
            self.target(target, reads)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        reads = self._reads_of(node.value) if node.value is not None else frozenset()
        if node.simple and isinstance(node.target, ast.Name):
            self.visit(node.annotation)
        if node.value is not None:
            self.target(node.target, reads)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.read(node.target.id)
            self.bind(node.target.id, update=True)
        else:  # x[k] += v reads what it changes
            base = _base_name(node.target)
            self.target(node.target, frozenset({base}) if base else frozenset())

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        saved, self.scopes = self.scopes, []  # a walrus binds in the cell's scope, even in a comprehension
        self.bind(node.target.id)
        self.scopes = saved

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if isinstance(target, (ast.Attribute, ast.Subscript)):
                self.target(target)
            else:
                self.visit(target)

    def visit_Expr(self, node: ast.Expr) -> None:
        self.visit(node.value)
        call = node.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
            if call.func.attr in MUTATORS:  # result discarded: called for its effect on the object
                base = _base_name(call.func.value)
                arguments = {n.id for a in (*call.args, *call.keywords) for n in ast.walk(a) if isinstance(n, ast.Name)}
                self.update(base, idempotent=call.func.attr in IDEMPOTENT_MUTATORS and base not in arguments)
            elif call.func.attr in _SHUFFLERS and call.args:
                self.update(_base_name(call.args[0]))

    def visit_Call(self, node: ast.Call) -> None:
        self.visit(node.func)
        for argument in (*node.args, *node.keywords):
            self.visit(argument)
        inplace = any(k.arg == "inplace" and isinstance(k.value, ast.Constant) and k.value.value is True
                      for k in node.keywords)
        if inplace and isinstance(node.func, ast.Attribute):
            self.update(_base_name(node.func.value))

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self.target(node.target)
        self.body(node.body)
        self.body(node.orelse)

    visit_AsyncFor = visit_For

    def visit_While(self, node: ast.While) -> None:
        self.visit(node.test)
        self.body(node.body)
        self.body(node.orelse)

    def visit_If(self, node: ast.If) -> None:
        self.visit(node.test)
        self.branches(node.body, node.orelse)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self.target(item.optional_vars)
        self.body(node.body)

    visit_AsyncWith = visit_With

    def visit_Try(self, node: ast.Try) -> None:
        self.body(node.body)
        after_body = dict(self.local)
        ends = []
        for handler in node.handlers:
            self.local = dict(after_body)
            if handler.type is not None:
                self.visit(handler.type)
            if handler.name:
                self.bind(handler.name)
            self.body(handler.body)
            ends.append(self.local)
        self.local = dict(after_body)
        self.body(node.orelse)
        for end in ends:
            self.local.update(end)
        self.body(node.finalbody)

    visit_TryStar = visit_Try

    def visit_Match(self, node: ast.Match) -> None:
        self.visit(node.subject)
        start = dict(self.local)
        ends = []
        for case in node.cases:
            self.local = dict(start)
            self.visit(case.pattern)
            if case.guard is not None:
                self.visit(case.guard)
            self.body(case.body)
            ends.append(self.local)
        for end in ends:
            start.update(end)
        self.local = start

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.pattern is not None:
            self.visit(node.pattern)
        if node.name:
            self.bind(node.name)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self.bind(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        for key in node.keys:
            self.visit(key)
        for pattern in node.patterns:
            self.visit(pattern)
        if node.rest:
            self.bind(node.rest)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for name, what in _import_names(node).items():
            self.bind(name, kind="import", code=hash(what))

    visit_ImportFrom = visit_Import

    def _definition(self, node: ast.AST, name: str) -> None:
        for decorator in getattr(node, "decorator_list", ()):
            self.visit(decorator)
        for part in _def_time_nodes(node):
            self.visit(part)
        deferred = _free_names(node)
        if isinstance(node, ast.ClassDef):  # the class body runs now, in its own namespace
            self._class_body(node)
            deferred = frozenset().union(*(_free_names(s) for s in node.body if isinstance(s, _FUNCTIONS)))
        self.bind(name, kind="function", code=hash(ast.dump(node)), deferred=deferred)

    def _class_body(self, node: ast.ClassDef) -> None:
        own: set[str] = set()
        for statement in node.body:
            if isinstance(statement, _FUNCTIONS):
                for part in (*statement.decorator_list, *_def_time_nodes(statement)):
                    self._class_reads(part, own)
                own.add(statement.name)
                continue
            self._class_reads(statement, own)
            for child in ast.walk(statement):
                if isinstance(child, ast.Name) and not isinstance(child.ctx, ast.Load):
                    own.add(child.id)

    def _class_reads(self, node: ast.AST, own: set[str]) -> None:
        for child in ast.walk(node):
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load) and child.id not in own:
                self.read(child.id)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._definition(node, node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._definition(node, node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        # a lambda handed to a call runs there: its free names are read now
        for default in (*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)):
            self.visit(default)
        for name in sorted(_free_names(node)):
            self.read(name)

    def _comprehension(self, node: ast.AST) -> None:
        generators = node.generators
        self.visit(generators[0].iter)  # evaluated in the cell's scope
        scope: set[str] = set()
        self.scopes.append(scope)
        try:
            for index, generator in enumerate(generators):
                if index:
                    self.visit(generator.iter)
                scope |= _target_names(generator.target)
                for condition in generator.ifs:
                    self.visit(condition)
            for part in ([node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]):
                self.visit(part)
        finally:
            self.scopes.pop()

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    def visit_Global(self, node: ast.Global) -> None:
        return None

    visit_Nonlocal = visit_Global


def _is_effect(statement: ast.stmt) -> bool:
    """A bare call made for its effect (not one that only shows something)."""
    if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
        return False
    function = statement.value.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
    return name not in _DISPLAY_CALLS


def _assign_lambda(statement: ast.stmt) -> tuple[str, ast.Lambda] | None:
    """``f = lambda ...`` binds a function, not a value: its free names are read when called."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and \
            isinstance(statement.targets[0], ast.Name) and isinstance(statement.value, ast.Lambda):
        return statement.targets[0].id, statement.value
    return None


@lru_cache(maxsize=8192)
def cell_flow(source: str, stop_line: int | None = None) -> CellFlow:
    """The :class:`CellFlow` of a cell's source (IPython syntax allowed; leading ``%%track``,
    ``%%time``... lines dropped). ``stop_line``: the cell raised at this line (1-based), so
    statements starting after it never ran. A source that does not parse reads and binds nothing."""
    tree = parse_cell(source)
    if tree is None:
        return EMPTY
    walker = _Walker()
    for statement in tree.body:
        if stop_line is not None and statement.lineno > stop_line:
            break
        assigned = _assign_lambda(statement)
        if assigned is not None:
            name, function = assigned
            walker.codes, walker.statement_inputs, walker.bound_here = {hash(ast.dump(statement))}, set(), {}
            walker.read_log, walker.repeats_change = [], False
            for default in (*function.args.defaults, *(d for d in function.args.kw_defaults if d is not None)):
                walker.visit(default)
            walker.bind(name, kind="function", code=hash(ast.dump(statement)), deferred=_free_names(function))
            kind, code, deferred, _, _ = walker.bound_here[name]
            walker.local[name] = _Origin(kind, frozenset({code}), frozenset(walker.statement_inputs), deferred)
            continue
        walker.statement(statement)
    bindings = []
    for name, origin in walker.local.items():
        code = hash(origin.codes) if origin.kind != "import" else next(iter(origin.codes))
        bindings.append((name, Binding(origin.kind, code, origin.inputs, origin.deferred, origin.update,
                                       origin.idempotent)))
    return CellFlow(tuple(walker.inputs), tuple(sorted(bindings)))


def expand(names: Iterable[str], deferred: Callable[[str], Iterable[str]]) -> list[str]:
    """``names`` plus, for each that holds a function, the names that function reads when
    called, transitively (``deferred(name)``: those names, empty for a non-function)."""
    out: dict[str, None] = {}
    pending = list(names)
    while pending:
        name = pending.pop(0)
        if name in out:
            continue
        out[name] = None
        pending.extend(sorted(deferred(name)))
    return list(out)
