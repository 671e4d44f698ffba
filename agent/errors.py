"""The one exception type the agent's operations raise: a stable protocol error code and a message."""

from . import protocol


class AgentError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message

    def as_task_error(self):
        return protocol.TaskError(code=self.code, message=self.message[:1000])
