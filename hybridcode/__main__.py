from hybridcode.cli.entry import main

main()
