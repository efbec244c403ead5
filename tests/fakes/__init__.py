"""In-process fakes of external services, served behind their real client SDKs."""
