from kamctl.cli.app import main

main()
