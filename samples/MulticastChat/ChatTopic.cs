namespace MulticastChat;

/// <summary>The topic the sample's messages travel on.</summary>
internal static class ChatTopic
{
    public const byte Value = 1;
}
