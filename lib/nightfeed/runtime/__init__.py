"""Where the jobs run: the Spark session, the venv's Spark set-up, JVM warm-up, logs and the local cluster."""
