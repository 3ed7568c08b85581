from onestack.cli import main

main()
