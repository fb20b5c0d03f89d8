// The inventory plugins the CLI hands the inventory loader, each imported only when a file names it
// (the AWS SDK is heavy, and the lab is not part of a production run).
import type { InventoryPlugins } from '../inventory/inventory-plugins.js';

export const inventoryPlugins: InventoryPlugins = {
  aws_ec2: async (config, file) => (await import('../../modules/aws/inventory-plugin.js')).awsEc2Inventory(config, file),
  rplay_lab: async (config, file) => (await import('../../lab/inventory-plugin.js')).rplayLabInventory(config, file),
};
