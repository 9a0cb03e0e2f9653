from shadowfleet.cli import main

if __name__ == "__main__":  # not when a worker process started by --engine dask imports this module
    main()
