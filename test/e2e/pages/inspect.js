// What the e2e tests read in the page: the queue straight from IndexedDB, as it is durable.
window.storedRecords = (endpoint = '/api/profiles') =>
  new Promise((resolve, reject) => {
    const open = indexedDB.open(`idcapture:${endpoint}`);
    open.onupgradeneeded = () => open.result.createObjectStore('queue');
    open.onsuccess = () => {
      // Numbers only: the store also keeps the last id given out, under a string key.
      const all = open.result.transaction('queue').objectStore('queue').getAll(IDBKeyRange.upperBound(Infinity));
      all.onsuccess = () => {
        resolve(all.result);
        open.result.close();
      };
      all.onerror = () => reject(all.error);
    };
    open.onerror = () => reject(open.error);
  });
