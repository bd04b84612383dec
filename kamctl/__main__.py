from kamctl.cli.entry import main

main()
