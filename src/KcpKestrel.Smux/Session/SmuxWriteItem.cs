using KcpKestrel.Smux.Frames;

namespace KcpKestrel.Smux.Session;

/// <summary>An entry of the write loop's queue: a control frame, or a stream with data or FIN to send (<see cref="Stream"/> set).</summary>
internal readonly record struct SmuxWriteItem(SmuxCommand Command, uint StreamId, uint Consumed, uint Window, SmuxStream? Stream);
