from feeds import create_app

app = create_app()
