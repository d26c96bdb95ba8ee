FLASK_APP=qhana_plugin_runner
FLASK_DEBUG=true
FLASK_RUN_PORT=5005
PYTHONUTF8=1
PLUGIN_FOLDERS=./plugins:./local_plugins
