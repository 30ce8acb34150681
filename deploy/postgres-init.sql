-- The warehouse database beside Airflow's metadata database.
CREATE USER closeflow WITH PASSWORD 'closeflow';
CREATE DATABASE warehouse OWNER closeflow;
