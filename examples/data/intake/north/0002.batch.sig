sample north/0002.batch.sig
