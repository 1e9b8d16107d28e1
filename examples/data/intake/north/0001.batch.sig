sample north/0001.batch.sig
