from hybridcode.cli.app import main

main()
