from emoreason.cli import app

app(prog_name="emoreason")
