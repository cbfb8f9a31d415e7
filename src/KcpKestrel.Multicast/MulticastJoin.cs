namespace KcpKestrel.Multicast;

/// <summary>Where a subscriber starts on a publisher's stream it has not heard before.</summary>
public enum MulticastJoin
{
    /// <summary>From the first packet it hears (a late joiner does not ask for the past).</summary>
    Latest,

    /// <summary>From sequence 1: earlier packets are NAKed, and what left the history is signalled as lost.</summary>
    Beginning,
}
