/**
 * The result of merging profiles of one symbol partition, as handed from storage to the flame graph
 * builder: a parent-pointer stack tree whose node ids are dense, with the summed sample value of
 * every stack that ends at each node.
 *
 * Invariant: parent[n] < n (nodes are appended after their parent), and -1 marks a root frame.
 */
export interface StackValues {
  /** Parent node of each node, -1 for a top-level frame. */
  parent: Int32Array;
  /** Location (index into the partition's locations) of each node. */
  location: Int32Array;
  /** Summed value of the stacks ending exactly at each node (self value); same length as parent. */
  values: Float64Array;
  /**
   * Frames of each location, innermost (inlined callee) first: names[locFrameName[i]] for
   * i in locFrameStart[loc] .. locFrameStart[loc+1]. A location without lines has one frame
   * named after its address.
   */
  locFrameStart: Uint32Array;
  locFrameName: Uint32Array;
  /** Function names referenced by locFrameName. */
  names: readonly string[];
}
