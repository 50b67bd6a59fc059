"""The desktop windows: Qt widgets on top of app/services, never touching the store directly."""
