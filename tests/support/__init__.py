"""What tests that need a running portal share with the bench: the live server and its worker
(live_server), their settings (live_settings), the load driver (load) and large generated
spreadsheets (sheets). The bench imports these; these never import the bench."""
