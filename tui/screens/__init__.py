"""The UI's screens: one per mode (Directory, Assignments, Provisioning, Mappings, Activity,
Provider), their dialogs and the help screen."""
