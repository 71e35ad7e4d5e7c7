"""The commands that move a file of the module's file system (9.7, 9.8, 9.19, 9.20, 28.1):
AT+HTTPGET / AT+HTTPSGET download the url into a fixed file and AT+HTTPGETSTAT? reports how it
went; AT+FILEHTTPACTION / AT+FILEHTTPSACTION GET a range into a file or POST one; AT+FSWF writes
a file from the data after its prompt.  The jobs that run the transfers are in files.py.
"""
from __future__ import annotations

from typing import Optional

from bridge.at.dialect import CommandSpec
from bridge.at.frames import Command
from bridge.device.fs import PathEscapeError
from bridge.model import ErrorKind, Method, Request
from bridge.neoway.module.channel import Channel
from bridge.neoway.module.files import Download, FileTransfer, file_chunks
from bridge.neoway.module.jobs import Runner
from bridge.neoway.module.plans import FileAction, read_file_action
from bridge.neoway.params import ParamError, checked

DOWNLOAD_FILES = {False: "/http/download.bin", True: "/https/download.bin"}
FILE_GET_DEFAULT = "/http/filehttp.bin"


class FileCommands:
    def __init__(self, side: Runner) -> None:
        self.side = side

    # ---- HTTPGET / HTTPSGET, HTTPGETSTAT? ------------------------------------------------------

    def get(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        side = self.side
        decompress, _check_type, check_value = checked(command, spec)
        if len(command.params) == 2 or (len(command.params) == 3 and not check_value):
            raise ParamError("<check_type> and <check_value> go together")
        refusal = self._get_refusal(channel)
        if refusal is not None:
            side.fail(refusal)
            return
        path = DOWNLOAD_FILES[channel.secure]
        md5 = check_value if len(command.params) == 3 else None
        written_here = not side.executor_capabilities.shares_file_system
        if written_here:  # the body comes through the bridge into this side's file: MD5 on real bytes
            request = side.request_for(channel, Method.GET)
            request.keep_alive = False
        else:
            request = side.request_for(channel, Method.GET, save_to=path)
        decompress = decompress or side.dialect.means("decompress_type").token("none")
        channel.download = side.run(Download(side, channel, path, decompress, md5, stream=written_here), request, now)
        channel.get_state = (side.dialect.means("get_state").token("unknown"), None)
        side.ok()

    def _get_refusal(self, channel: Channel) -> Optional[ErrorKind]:
        if channel.url() is None:
            return ErrorKind.NOT_ALLOWED
        if not self.side.link.up:
            return ErrorKind.NO_DATA_LINK
        return ErrorKind.BUSY if channel.download is not None else None

    def getstat(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        checked(command, spec)  # only the read form is declared
        state, code = channel.get_state
        self.side.line(f"{self.side.reports.name('+HTTPGETSTAT', channel.secure)}: {state}" + (f",{code}" if code else ""))
        self.side.ok()

    # ---- FILEHTTPACTION / FILEHTTPSACTION -------------------------------------------------------

    def file_action(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        side = self.side
        try:
            mode, first, second, name = checked(command, spec)
            size_max = spec.forms["set"].params[2].range[1]  # type: ignore[index]
            action = read_file_action(mode, first, second, name, size_max, side.dialect.enums["post_type"],
                                      side.dialect.means("file_mode"))
            path = self._module_path(action.name or FILE_GET_DEFAULT)
            refusal = self._file_refusal(channel, action, path)
        except ParamError:
            refusal = ErrorKind.INVALID_PARAMETER
        if refusal is not None:
            side.fail_token(side.reports.cme(refusal))
            return
        request = self._file_request(channel, action, path)
        channel.job = side.run(FileTransfer(side, channel, action.mode, action.length), request, now)
        side.ok()

    def _file_refusal(self, channel: Channel, action: FileAction, path: str) -> Optional[ErrorKind]:
        if action.method is Method.POST:
            try:
                if self.side.fs.size(path) < action.length:
                    return ErrorKind.INVALID_PARAMETER  # the file is shorter than <length>
            except OSError:
                return ErrorKind.FILE_OPEN_FAILED
        if not self.side.link.up:
            return ErrorKind.NO_DATA_LINK
        if not channel.link_up or channel.url() is None:
            return ErrorKind.NOT_ALLOWED
        return ErrorKind.BUSY if channel.job is not None else None

    def _file_request(self, channel: Channel, action: FileAction, path: str) -> Request:
        side = self.side
        if action.method is not Method.POST:
            return side.request_for(channel, Method.GET, byte_range=action.byte_range, save_to=path)
        assert action.content_type is not None
        headers = [("Content-Type", action.content_type), ("Content-Length", str(action.length))]
        request = side.request_for(channel, Method.POST, headers)
        request.body = file_chunks(side.fs, path, action.length)
        request.keep_alive = False  # a transfer leaves the link as it was: its own connection
        return request

    def _module_path(self, name: str) -> str:
        """<dir&filename> is relative to the root of the file system (9.19): rooted here, so that
        a module behind a bridge, whose relative names go elsewhere (OneMO: /etc/http_file/),
        stores it there too."""
        try:
            self.side.fs.resolve(name)
        except PathEscapeError as exc:
            raise ParamError(str(exc)) from None
        return "/" + name.lstrip("/")

    # ---- FSWF (28.1): a file of this side's file system -------------------------------------------

    def fswf(self, channel: Channel, spec: CommandSpec, command: Command, now: float) -> None:
        side = self.side
        name, mode, size, wait = checked(command, spec)
        assert name is not None and size is not None and wait is not None
        path, append = self._module_path(name), side.dialect.means("fswf_mode").meaning(mode or "") == "append"
        if int(size) == 0:
            self._write_file(path, b"", append)
            return
        side.hold_until_answered()

        def arrived(data: bytes, how: str, now: float) -> None:
            if how == "length":
                self._write_file(path, data, append)
            else:
                side.line("+FSWF: Timeout!")  # 28.1
            side.answered(now)

        timeout = int(wait) / 1000 if int(wait) else side.input_timeout
        side.prompt_for_data(int(size), arrived, now, timeout, int(size))

    def _write_file(self, path: str, data: bytes, append: bool) -> None:
        try:
            self.side.fs.write_file(path, data, append=append)
        except OSError:
            self.side.fail(ErrorKind.FILE_WRITE_FAILED)
            return
        self.side.ok()
