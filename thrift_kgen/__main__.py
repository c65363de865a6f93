from thrift_kgen.cli import main

main()
