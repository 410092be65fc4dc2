// Inventory's own MongoDB user: readWrite on the database `inventory` only, authenticating
// against that database (authSource=inventory in INVENTORY_STORE_URL). The mongo image runs
// this once, on first start, against its temporary server (no auth yet, no replica set),
// after it has made the root user `operator`. The password comes from the credentials volume
// (docker/credentials), not from this file or the compose file.
const password = fs.readFileSync('/run/saga/mongodb/inventory.password', 'utf8').trim();
if (!/^[0-9a-f]{32}$/.test(password)) {
  throw new Error('/run/saga/mongodb/inventory.password is not what docker/credentials makes');
}
const inventory = db.getSiblingDB('inventory');
if (inventory.getUser('inventory') === null) {
  inventory.createUser({
    user: 'inventory',
    pwd: password,
    roles: [{ role: 'readWrite', db: 'inventory' }],
  });
}
print('inventory-user.js: user inventory, readWrite on inventory only');
