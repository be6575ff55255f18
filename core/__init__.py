"""The ground floor: what every app shares and no app owns — private file storage, queueing a task
after commit (kept in the database while the broker is away), the results version pages are
cached under, and the ports other apps plug into (notifications, data locks). It imports no app
of the portal; apps import it."""
