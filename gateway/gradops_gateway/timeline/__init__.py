"""The student timeline: everything that happened to one student across services, in order, built
from the services' events by the gateway's event worker (the same consumer as the webhooks) and
served by the gateway at `GET /api/v1/students/{student_no}/timeline`."""
