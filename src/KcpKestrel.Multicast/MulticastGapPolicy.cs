namespace KcpKestrel.Multicast;

/// <summary>What a subscriber does when a gap has already left the publisher's history.</summary>
public enum MulticastGapPolicy
{
    /// <summary>Signal the loss, then carry on from the oldest packet the publisher still holds.</summary>
    Resync,

    /// <summary>Signal the loss, then ignore that publisher's stream.</summary>
    Stop,
}
