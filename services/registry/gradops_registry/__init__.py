"""Registry service: the student record (学籍) and its history."""
