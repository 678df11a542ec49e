// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * partial_race DATAFILE WRITEBACK_FILE SECONDS PAGE
 *
 * Four threads each own one 512-byte sector of page PAGE of a zramfs data
 * file: each writes its sector (O_DIRECT) with a new sequence number, then
 * reads the whole page and checks that its sector holds what it wrote.
 * A fifth thread writes "page_index=PAGE" to WRITEBACK_FILE in a loop, so
 * the page keeps going to the backing store and coming back. A partial
 * write of a written-back page is a read-modify-write; a stale read there
 * loses another writer's sector. Prints the counts; exits 1 on any loss.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WRITERS 4
#define SECTOR 512
#define PAGE_SIZE 4096

static const char *data_path, *wb_path;
static long page;
static int stop;
static long lost, writes, writebacks;

static void fill(uint64_t *words, int id, uint64_t seq)
{
	int i;

	for (i = 0; i < SECTOR / 8; i++)
		words[i] = (0x5ec7ULL << 48 | (uint64_t)id << 40) + seq * 64 + i;
}

static void *writer(void *arg)
{
	int id = (int)(intptr_t)arg;
	int fd = open(data_path, O_RDWR | O_DIRECT);
	off_t at = page * PAGE_SIZE + id * SECTOR;
	unsigned char *buf, *pg;
	uint64_t seq;

	if (fd < 0 || posix_memalign((void **)&buf, PAGE_SIZE, PAGE_SIZE) ||
	    posix_memalign((void **)&pg, PAGE_SIZE, PAGE_SIZE)) {
		perror("partial_race: writer setup");
		exit(2);
	}
	for (seq = 1; !__atomic_load_n(&stop, __ATOMIC_RELAXED); seq++) {
		fill((uint64_t *)buf, id, seq);
		if (pwrite(fd, buf, SECTOR, at) != SECTOR ||
		    pread(fd, pg, PAGE_SIZE, page * PAGE_SIZE) != PAGE_SIZE) {
			perror("partial_race: data I/O");
			exit(2);
		}
		__atomic_add_fetch(&writes, 1, __ATOMIC_RELAXED);
		if (memcmp(pg + id * SECTOR, buf, SECTOR))
			__atomic_add_fetch(&lost, 1, __ATOMIC_RELAXED);
	}
	close(fd);
	free(buf);
	free(pg);
	return NULL;
}

static void *writeback_loop(void *unused)
{
	char req[64];
	int len = snprintf(req, sizeof(req), "page_index=%ld", page);
	int fd = open(wb_path, O_WRONLY);

	(void)unused;
	if (fd < 0) {
		perror(wb_path);
		exit(2);
	}
	/* ENOSPC (the one block is taken) and EAGAIN are part of the game. */
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		if (pwrite(fd, req, len, 0) == len)
			writebacks++;
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t threads[WRITERS + 1];
	int i;

	if (argc != 5) {
		fprintf(stderr, "usage: partial_race DATA WRITEBACK SECONDS PAGE\n");
		return 2;
	}
	data_path = argv[1];
	wb_path = argv[2];
	page = atol(argv[4]);
	for (i = 0; i < WRITERS; i++)
		pthread_create(&threads[i], NULL, writer, (void *)(intptr_t)i);
	pthread_create(&threads[WRITERS], NULL, writeback_loop, NULL);
	sleep((unsigned int)atoi(argv[3]));
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i <= WRITERS; i++)
		pthread_join(threads[i], NULL);
	printf("writes %ld writebacks %ld lost %ld\n", writes, writebacks,
	       lost);
	return lost ? 1 : 0;
}
