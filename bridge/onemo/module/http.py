"""The instance commands (3.2-3.9): MHTTPCREATE, MHTTPHEADER, MHTTPCONTENT, MHTTPREQUEST,
MHTTPREAD, MHTTPDEL, MHTTPTERM and MHTTPDLFILE."""
from __future__ import annotations

import dataclasses
import re
from typing import Callable, Optional, Protocol

from bridge.at.dialect import CommandSpec, ParamSpec
from bridge.at.frames import Command
from bridge.model import ByteRange, ErrorKind, ExecutorCapabilities, Method, Request, TlsSettings
from bridge.device.fs import ModuleFileSystem, PathEscapeError, UnusablePathError
from bridge.onemo.module.instance import Instance, Pieces, Settings, build, parse_base, timeouts
from bridge.onemo.module.reply import CommandReply
from bridge.onemo.params import CommandError, bad, parse_params, present, with_limits
from bridge.onemo.module.request import UploadStream, request_path
from bridge.onemo.module.sinks import CacheSink, DlfileSink, FileSink, FileWriter, HostSink
from bridge.onemo.module.tls import SslCommands
from bridge.onemo.module.transfer import Io, Sink, Transfer, urc

HTTP_FILE_DIR = "/etc/http_file/"  # where a relative <local_path> is stored (fn 26, 33)
_RANGE = re.compile(r"bytes=[0-9]*-[0-9]*(,[ \t]*[0-9]*-[0-9]*)*")  # ASCII: a header value must encode
_CHUNKED_METHODS = (Method.POST, Method.PUT)  # the methods whose body chunked mode streams


class Side(CommandReply, Io, Protocol):
    """The instances and downloads of the module side, its file system and SSL contexts, and what
    its executor can carry (its executor_capabilities)."""

    fs: ModuleFileSystem
    ssl: SslCommands
    instances: dict[int, Instance]
    downloads: dict[int, Transfer]
    packet_size: int
    executor_capabilities: ExecutorCapabilities

    def param_spec(self, command: str, name: str) -> Optional[ParamSpec]: ...

    def instance(self, httpid: int) -> Instance: ...

    def created(self) -> list[Instance]: ...

    def transfers(self) -> list[Transfer]: ...

    def check_free(self) -> None: ...

    def check_executor(self, request: Request) -> None: ...

    def instance_tls(self, instance: Instance) -> Optional[TlsSettings]: ...

    def executor_tls(self, tls: Optional[TlsSettings]) -> Optional[TlsSettings]: ...


class HttpCommands:
    def __init__(self, side: Side) -> None:
        self.side = side
        self.profile = side.profile
        content = side.dialect.commands["MHTTPCONTENT"]
        # Chunked upload: how many pieces may wait for a server that does not read (payload_max bytes' worth).
        self.upload_backlog = max(1, side.dialect.payload_max // content.data_max())

    # -- helpers ---------------------------------------------------------------------------

    def _params(self, command: Command, spec: CommandSpec, formats: Optional[dict[str, int]] = None) -> dict:
        return parse_params(command.params, spec.forms["set"].params, self.profile, formats)

    def _instance_of(self, command: Command, spec: CommandSpec) -> Instance:
        """The instance the first parameter names (checked before the rest, whose input format it sets)."""
        first = parse_params(command.params[:1], spec.forms["set"].params[:1], self.profile)
        return self.side.instance(int(first["httpid"]))

    def _free_id(self) -> int:
        spec = self.side.param_spec("MHTTPDEL", "httpid")
        bounds = with_limits(spec, self.profile).range if spec is not None else None
        assert bounds is not None, "onemo.yaml: MHTTPDEL <httpid> has no range"
        low, high = bounds
        used = set(self.side.instances) | set(self.side.downloads)
        if len(used) < int(self.profile.get("instances") or high - low + 1):
            for httpid in range(low, high + 1):
                if httpid not in used:
                    return httpid
        raise CommandError(ErrorKind.NO_FREE_INSTANCE, "no free client instance")

    def _local_path(self, text: str) -> str:
        """Where <local_path> is stored (fn 26, 33): as given, or under /etc/http_file/."""
        rule = self.profile.get("local_path")
        stored = text
        if rule == "slash_root" and not text.startswith("/"):
            stored = HTTP_FILE_DIR + text
        elif rule == "slash_only" and ("/" not in text or "\\" in text):
            stored = HTTP_FILE_DIR + text
        try:
            resolved = self.side.fs.resolve(stored)
        except UnusablePathError as exc:  # well-formed, but no file can be opened there: 658
            raise CommandError(ErrorKind.FILE_OPEN_FAILED, str(exc)) from None
        except PathEscapeError as exc:  # malformed ('..', NUL, control characters): a parameter error
            raise bad(str(exc)) from None
        if resolved == self.side.fs.root:
            raise bad("<local_path> names no file")
        return stored

    def _input_timeout(self, instance: Instance) -> Optional[float]:
        return instance.settings.int("timeout", "input_timeout") or None

    def _means(self, spec: CommandSpec, name: str, value: object) -> object:
        """What `value` of the set form's parameter `name` means (its enum's `means:`)."""
        index = spec.param_index("set", name)
        enum = spec.forms["set"].params[index].enum if index is not None else None
        return self.side.dialect.means(enum or name).meaning(str(value))

    # -- AT+MHTTPCREATE ---------------------------------------------------------------------

    def create(self, command: Command, spec: CommandSpec, now: float) -> None:
        values = self._params(command, spec)
        base = parse_base(str(values["host"]))
        if base is None:
            raise CommandError(ErrorKind.URL_INVALID, f"cannot parse {values['host']!r}")
        if base.scheme == "https" and not self.profile.get("ssl", True):
            raise CommandError(ErrorKind.SSL_NOT_ENABLED, "this model has no SSL")
        httpid = self._free_id()
        self.side.instances[httpid] = Instance(httpid, base, Settings(self.side.dialect))
        self.side.line(f"+MHTTPCREATE: {httpid}")
        self.side.ok()

    # -- AT+MHTTPHEADER / AT+MHTTPCONTENT ----------------------------------------------------

    def pieces(self, command: Command, spec: CommandSpec, now: float) -> None:
        instance = self._instance_of(command, spec)
        params = spec.forms["set"].params
        data_spec = params[3]
        input_format = instance.settings.int("encoding", "input_format")
        values = self._params(command, spec, {data_spec.name: input_format})
        is_content = spec.name == "MHTTPCONTENT"
        pieces = instance.content if is_content else instance.header
        eof = values["eof"]
        if eof is None:
            if values["length"] is not None or values[data_spec.name] is not None:
                raise bad("<eof> is missing")
            if pieces.data:
                self.side.line(f"+{spec.name}: {instance.id},{len(pieces.data)},".encode() + bytes(pieces.data))
            self.side.ok()
            return
        chunked = is_content and instance.settings.on("chunked", "chunked_mode")
        end = self._means(spec, "eof", eof)  # last, more or clear
        if end == "clear":
            self._clear(instance, pieces, chunked)
            return
        last = end == "last"
        store = self._uploader(instance, self._upload(instance), last) if chunked else self._collector(instance, pieces, last)
        data_param = command.params[3] if len(command.params) > 3 else None
        if present(data_param):
            assert data_param is not None
            store(self.side.inline_data(data_param.text, data_spec, input_format, values["length"]))
        else:
            self.side.take_data(values["length"], spec.data_max(), self._input_timeout(instance), now, store)

    def _upload(self, instance: Instance) -> UploadStream:
        """Chunked mode: the body stream of the request in flight (3.4: request first, content after "ind")."""
        transfer = instance.transfer
        upload = transfer.upload if transfer is not None else None
        if upload is None or upload.closed:
            raise CommandError(ErrorKind.NOT_ALLOWED, "chunked mode: send AT+MHTTPREQUEST first")
        return upload

    def _clear(self, instance: Instance, pieces: Pieces, chunked: bool) -> None:
        if chunked:
            raise CommandError(ErrorKind.NOT_ALLOWED, "<eof> 2 works in Content-Length mode only")
        if instance.busy:
            raise CommandError(ErrorKind.BUSY, "a request is in flight")
        pieces.clear()
        self.side.ok()

    def _collector(self, instance: Instance, pieces: Pieces, last: bool) -> Callable[[bytes], None]:
        if instance.busy:
            raise CommandError(ErrorKind.BUSY, "a request is in flight")
        if pieces.closed:
            raise CommandError(ErrorKind.NOT_ALLOWED, "input ended with <eof> 0; clear it first (<eof> 2)")

        limit = self.side.dialect.payload_max
        body_max = self.side.executor_capabilities.request_body_max
        if pieces is instance.content and body_max is not None:
            limit = min(limit, body_max)  # what the executor carries (a bridge's module)

        is_header = pieces is instance.header

        def store(data: bytes) -> None:
            if is_header and pieces.data and data and not pieces.data.endswith(b"\r\n") and not data.startswith(b"\r\n"):
                data = b"\r\n" + data  # each call's data is a header line of its own (one field per call)
            if len(pieces.data) + len(data) > limit:
                raise CommandError(ErrorKind.OUT_OF_MEMORY, f"more than {limit} bytes collected")
            pieces.data += data
            pieces.closed = last
            self.side.ok()

        return store

    def _uploader(self, instance: Instance, upload: UploadStream, last: bool) -> Callable[[bytes], None]:
        def send(data: bytes) -> None:
            transfer = instance.transfer
            if transfer is None or transfer.upload is not upload or upload.closed:
                raise CommandError(ErrorKind.SEND_FAILED, "the request has ended")
            if transfer.token is None:  # an executor that takes bodies whole: held until <eof> 0
                self._hold(transfer, upload, data, last)
                return
            if upload.backlog() >= self.upload_backlog:
                raise CommandError(ErrorKind.SEND_FAILED, "the server is not reading the body")
            upload.put(data)
            if last:
                upload.close()
            self.side.ok()

        return send

    def _hold(self, transfer: Transfer, upload: UploadStream, data: bytes, last: bool) -> None:
        """Chunked mode for an executor that needs the body whole: the pieces are kept, and the
        request starts with all of them once <eof> 0 has come.  More than the executor carries:
        this piece is refused (23) and the request ends ("err" 8) -- never a request left hanging."""
        limit = self.side.executor_capabilities.request_body_max
        if limit is not None and upload.size + len(data) > limit:
            self.side.fail(ErrorKind.OUT_OF_MEMORY)
            transfer.abort(ErrorKind.OUT_OF_MEMORY)
            return
        upload.put(data)
        if not last:
            self.side.ok()
            return
        upload.close()
        transfer.request.body = upload.drain()
        try:
            self.side.check_executor(transfer.request)
        except CommandError as refused:
            self.side.fail(refused.kind)
            transfer.abort(refused.kind)
            return
        self.side.ok()
        self.side.launch(transfer)

    # -- AT+MHTTPREQUEST ---------------------------------------------------------------------

    def request(self, command: Command, spec: CommandSpec, now: float) -> None:
        instance = self._instance_of(command, spec)
        params = spec.forms["set"].params
        input_format = instance.settings.int("encoding", "input_format")
        values = self._params(command, spec, {"path": input_format})
        if instance.busy:
            raise CommandError(ErrorKind.BUSY, "a request is in flight")
        self.side.check_free()
        method = self.side.dialect.means("method").meaning(str(values["method"]))
        assert isinstance(method, Method), f"onemo.yaml: method {values['method']!r} means no Method"
        local = self._local_path(str(values["local_path"])) if values["local_path"] is not None else None

        def send(path: bytes) -> None:
            self._send(instance, method, path, local)

        path_param = command.params[3] if len(command.params) > 3 else None
        if present(path_param):
            assert path_param is not None
            send(self.side.inline_data(path_param.text, params[3], input_format, values["length"]))
        else:
            self.side.take_data(values["length"], spec.data_max(), self._input_timeout(instance), now, send)

    def _send(self, instance: Instance, method: Method, path: bytes, local: Optional[str]) -> None:
        if instance.busy or self.side.instances.get(instance.id) is not instance:
            raise CommandError(ErrorKind.BUSY, "a request is in flight")
        self.side.check_free()
        settings = instance.settings
        chunked = settings.on("chunked", "chunked_mode") and method in _CHUNKED_METHODS
        held = chunked and not self.side.executor_capabilities.streams_request_body  # the body goes whole once <eof> 0 has come
        upload = UploadStream() if chunked else None
        body = upload if upload is not None else (bytes(instance.content.data) if instance.content.data else None)
        target = request_path(path, settings.on("urlencode", "urlencode_mode"))
        request = build(instance, method, target, self.side.executor_tls(self.side.instance_tls(instance)), body)
        writer = None
        if local is not None and self.side.executor_capabilities.files_on_module:
            writer = FileWriter(self.side.fs, local)
        else:
            request.save_to = local
        self.side.check_executor(dataclasses.replace(request, body=[]) if chunked else request)
        transfer = Transfer(self.side, instance.id, request, self._sink_maker(instance, local, writer), upload)
        instance.transfer = transfer
        self.side.ok()
        if not held:
            self.side.launch(transfer)
        if chunked:
            self.side.line(urc("ind", instance.id))

    def _sink_maker(self, instance: Instance, local: Optional[str], writer: Optional[FileWriter] = None) -> Callable[[Transfer], Sink]:
        settings = instance.settings
        output = settings.int("encoding", "output_format")
        if local is not None:
            return lambda t: FileSink(t, output, writer)
        if settings.on("cached", "cached"):
            instance.cache.clear()  # the next request clears what was not read (3.6)
            return lambda t: CacheSink(t, instance.cache, settings.int("cached", "cache_length"))
        frag, interval = settings.int("fragment", "frag_size"), settings.int("fragment", "interval")
        return lambda t: HostSink(t, output, frag, interval, self.side.packet_size)

    # -- AT+MHTTPREAD -------------------------------------------------------------------------

    def read(self, command: Command, spec: CommandSpec, now: float) -> None:
        values = self._params(command, spec)
        instance = self.side.instance(int(values["httpid"]))
        kind, wanted, cache = int(values["type"]), values["read_len"], instance.cache
        head = f"+MHTTPREAD: {instance.id},{kind}"
        if wanted is None:
            self.side.line(f"{head},{cache.unread(kind)}")
        else:
            data = cache.read(kind, cache.unread(kind) if wanted == 0 else int(wanted))
            self.side.line(f"{head},{cache.unread(kind)},{len(data)},".encode() + data)
        self.side.ok()

    # -- AT+MHTTPDEL / AT+MHTTPTERM -----------------------------------------------------------

    def delete(self, command: Command, spec: CommandSpec, now: float) -> None:
        instance = self.side.instance(int(self._params(command, spec)["httpid"]))
        if instance.transfer is not None:
            instance.transfer.terminate()
        del self.side.instances[instance.id]
        self.side.ok()

    def terminate(self, command: Command, spec: CommandSpec, now: float) -> None:
        if command.form == "execute":
            held = [i.transfer for i in self.side.created() if i.transfer is not None]  # incl. chunked ones not started yet
            for transfer in self.side.transfers() + held:
                transfer.terminate()
        else:
            instance = self.side.instance(int(self._params(command, spec)["httpid"]))
            if instance.transfer is not None:
                instance.transfer.terminate()
        self.side.ok()

    # -- AT+MHTTPDLFILE -----------------------------------------------------------------------

    def dlfile(self, command: Command, spec: CommandSpec, now: float) -> None:
        ssl_spec = self.side.param_spec("MSSLCFG", "ssl_id")  # the SSL manual's range, as for MHTTPCFG "ssl"
        specs = tuple(with_limits(p, self.profile, ssl_spec if p.name == "ssl_id" else None) for p in spec.forms["set"].params)
        values = parse_params(command.params, specs, self.profile)
        url = str(values["url"]).strip()
        base = parse_base(url)
        if base is None:
            raise CommandError(ErrorKind.URL_INVALID, f"cannot parse {url!r}")
        tls = self._dlfile_tls(values["ssl_id"], base.scheme)
        if tls is not None and base.scheme == "http":
            url = "https" + url[4:]
        local = self._local_path(str(values["local_path"]))
        ranged = values["range"]
        if ranged is not None and not _RANGE.fullmatch(str(ranged).strip()):
            raise bad(f"<range> {ranged!r} is not bytes=first-last")
        request = Request(Method.GET, url, [("Range", str(ranged).strip())] if ranged else [], tls=tls,
                          timeouts=timeouts(Settings(self.side.dialect)),
                          save_to=local, append=self._means(spec, "eof", values["eof"]) == "append")
        if request.append and not ranged:
            request.byte_range = self._resume_from(local)
        writer = None
        if self.side.executor_capabilities.files_on_module:  # the executor would save on its module: the file is written here
            writer = FileWriter(self.side.fs, local, request.append)
            request.save_to, request.append = None, False
        self.side.check_free()
        self.side.check_executor(request)
        httpid = self._free_id()
        progind = int(values["progind"] or 0)
        transfer = Transfer(self.side, httpid, request, lambda t: DlfileSink(t, progind, writer, self.side.packet_size))
        self.side.downloads[httpid] = transfer
        self.side.ok()
        self.side.launch(transfer)

    def _dlfile_tls(self, ssl_id: Optional[int], scheme: str) -> Optional[TlsSettings]:
        """<ssl_id> given: SSL with that context; an https URL without it: the default configuration."""
        if ssl_id is None and scheme != "https":
            return None
        if not self.profile.get("ssl", True):
            raise CommandError(ErrorKind.SSL_NOT_ENABLED, "this model has no SSL")
        return self.side.executor_tls(self.side.ssl.contexts.tls(int(ssl_id)) if ssl_id is not None else TlsSettings())

    def _resume_from(self, local: str) -> Optional[ByteRange]:
        """<eof> 1 without <range>: continue after what the file holds (fn 34)."""
        try:
            path = self.side.fs.resolve(local)
            size = path.stat().st_size if path.is_file() else 0
        except (OSError, PathEscapeError) as exc:  # refused by the host after all (a link changed meanwhile)
            raise CommandError(ErrorKind.FILE_OPEN_FAILED, f"cannot use {local[:64]!r}: {exc}") from None
        return ByteRange(size) if size else None
