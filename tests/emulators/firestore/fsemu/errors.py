"""google.rpc.Status errors with the HTTP codes Google's REST front end uses."""

HTTP_OF = {
    'CANCELLED': 499, 'UNKNOWN': 500, 'INVALID_ARGUMENT': 400, 'DEADLINE_EXCEEDED': 504,
    'NOT_FOUND': 404, 'ALREADY_EXISTS': 409, 'PERMISSION_DENIED': 403, 'RESOURCE_EXHAUSTED': 429,
    'FAILED_PRECONDITION': 400, 'ABORTED': 409, 'OUT_OF_RANGE': 400, 'UNIMPLEMENTED': 501,
    'INTERNAL': 500, 'UNAVAILABLE': 503, 'DATA_LOSS': 500, 'UNAUTHENTICATED': 401,
}
# For fault injection by HTTP code: the status a Google front end sends with it.
STATUS_OF_HTTP = {
    400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND',
    409: 'ABORTED', 429: 'RESOURCE_EXHAUSTED', 499: 'CANCELLED', 500: 'INTERNAL',
    501: 'UNIMPLEMENTED', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
}


class ApiError(Exception):
    def __init__(self, status, message, details=None):
        Exception.__init__(self, message)
        self.status = status
        self.message = message
        self.http = HTTP_OF[status]
        self.details = details

    def body(self):
        err = {'code': self.http, 'message': self.message, 'status': self.status}
        if self.details:
            err['details'] = self.details
        return {'error': err}


def invalid(message):
    if message.startswith('Invalid JSON payload received.'):
        return ApiError('INVALID_ARGUMENT', message, [{
            '@type': 'type.googleapis.com/google.rpc.BadRequest',
            'fieldViolations': [{'description': message}]}])
    return ApiError('INVALID_ARGUMENT', message)


def not_found(message):
    return ApiError('NOT_FOUND', message)


def already_exists(message):
    return ApiError('ALREADY_EXISTS', message)


def failed_precondition(message):
    return ApiError('FAILED_PRECONDITION', message)


def aborted(message):
    return ApiError('ABORTED', message)
