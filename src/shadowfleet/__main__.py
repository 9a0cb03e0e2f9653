from shadowfleet.cli import main

main()
